import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App, type PageState } from './app.js';

/**
 * Entry of the playground page: finds which datasets the build holds, then starts the app.
 * `window.convkitPlayground` exposes the page's state read-only, for the browser test.
 */

declare global {
  interface Window {
    convkitPlayground?: PageState;
  }
}

async function main(): Promise<void> {
  const dataBase = new URL('data/', document.baseURI).href;
  let built: string[] = ['digits'];
  try {
    const res = await fetch(new URL('datasets.json', dataBase));
    if (res.ok) built = ((await res.json()) as { files: string[] }).files;
  } catch {
    // A build without the manifest still has the digits.
  }
  const app = new App(dataBase, built);
  app.mount(document.getElementById('app')!);
  window.convkitPlayground = app.state;
  // A run pasted into the address bar of an open page: start over from it. (The page's own
  // updates use history.replaceState, which fires no hashchange.)
  window.addEventListener('hashchange', () => location.reload());
}

void main();
