/**
 * @file Entry of the renderer (browser or Electron renderer, sandboxed).
 */
import { mount } from 'svelte';
import App from './App.svelte';
import './app.css';
import { NO_TOKEN, transport, webToken } from './app/client';

const target = document.getElementById('app') as HTMLElement;
if (transport === 'web' && !webToken()) {
  // A tab opened without the printed URL (see [Note: the page's token]): say how to get in instead of a dead UI.
  const message = document.createElement('p');
  message.setAttribute('role', 'alert');
  message.textContent = NO_TOKEN.message;
  target.replaceChildren(message);
} else {
  mount(App, { target });
}
