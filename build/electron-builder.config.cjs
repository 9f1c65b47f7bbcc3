// electron-builder configuration: installers for Linux (AppImage, deb), Windows (NSIS) and macOS (dmg).
// `npm run dist` builds the host platform's installers; see README "Desktop installers".
// [Note: packaging] Native modules (onnxruntime-node, better-sqlite3, sharp) and the tfjs .wasm files must live
// outside the asar archive to be loadable, and so must the demo model (ONNX Runtime opens it by path). ONNX Runtime
// ships binaries for every platform in one npm package (~290 MB): each target keeps only its own.
const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6';

/** @type {import('electron-builder').Configuration} */
module.exports = {
  appId: 'org.coopstudio.app',
  productName: 'CoOp Studio',
  executableName: 'coop-studio',
  copyright: 'Copyright © 2026 CoOp Studio contributors',
  directories: { output: 'release', buildResources: 'build' },
  files: [
    'package.json',
    'dist/**',
    'resources/**',
    '!dist/**/*.map',
    '!**/*.{ts,tsx,md,markdown}',
    '!**/{test,tests,__tests__,docs,example,examples}/**',
  ],
  asar: true,
  asarUnpack: [
    'node_modules/onnxruntime-node/**',
    'node_modules/onnxruntime-common/**',
    'node_modules/better-sqlite3/**',
    'node_modules/sharp/**',
    'node_modules/@img/**',
    'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
    'resources/models/**',
  ],
  npmRebuild: true,
  nodeGypRebuild: false,
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science',
    icon: 'build/icons',
    files: [`!${ORT_BIN}/win32/**`, `!${ORT_BIN}/darwin/**`],
  },
  deb: { depends: ['libnss3', 'libgtk-3-0', 'libxss1', 'libasound2'] },
  win: {
    target: ['nsis'],
    icon: 'build/icon.png',
    files: [`!${ORT_BIN}/linux/**`, `!${ORT_BIN}/darwin/**`],
  },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.developer-tools',
    icon: 'build/icon.png',
    hardenedRuntime: true,
    files: [`!${ORT_BIN}/linux/**`, `!${ORT_BIN}/win32/**`],
  },
  dmg: { title: 'CoOp Studio' },
};
