/**
 * @file Entry of the renderer (browser or Electron renderer, sandboxed): connects to the engine, builds the studio and
 * mounts the app.
 */
import { mount } from 'svelte';
import App from './App.svelte';
import { connect, NO_TOKEN } from './app/client';
import { Studio, studioContext } from './app/studio';
import './app.css';

const target = document.getElementById('app') as HTMLElement;
const connection = connect();
if (!connection) {
  // A tab opened without the printed URL (see [Note: the page's token]): say how to get in instead of a dead UI.
  const message = document.createElement('p');
  message.setAttribute('role', 'alert');
  message.textContent = NO_TOKEN.message;
  target.replaceChildren(message);
} else {
  const studio = new Studio(connection.engine, connection.platform);
  studio.start();
  mount(App, { target, context: studioContext(studio) });
}
