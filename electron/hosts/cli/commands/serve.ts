/**
 * @file CLI command `serve`: the local web mode (Node).
 */
import { join } from 'node:path';
import { AppError } from '../../../../shared/result';
import { appRoot, dataDir } from '../../../engine/settings/paths';
import { fileRoutes } from '../../server/file-routes';
import { startWebServer } from '../../server/web-server';
import { int, type CommandSpec } from '../command';

/** `coop-studio serve`. */
export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Serve the studio UI to a browser on 127.0.0.1, with a random per-start token in the URL.',
  options: {
    port: { type: 'string', valueName: 'N', description: 'Port to listen on; 0 picks a free one.', defaultText: '0' },
  },
  service: true,
  details: 'Open the printed URL in a browser. Requests without the token are refused (401/403).',
  async run(ctx) {
    const port = int(ctx, 'port', 0);
    if (port < 0 || port > 65535) throw new AppError('bad_args', `--port must be between 0 and 65535, got ${port}.`);
    const client = await ctx.engine();
    const server = await startWebServer({
      client,
      staticDir: join(appRoot(), 'dist', 'renderer'),
      port,
      routes: fileRoutes(dataDir()),
      log: (line) => ctx.log(line),
    });
    ctx.print(`CoOp Studio is running. Open this URL in your browser:\n\n    ${server.url}\n\nPress Ctrl+C to stop.`);
    ctx.log(`serving on ${server.origin}`);
    const stop = () => {
      void server
        .close()
        .then(() => client.close())
        .then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return { url: server.url, port: server.port, origin: server.origin };
  },
};
