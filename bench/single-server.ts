// Baseline 1: the app in one plain Node process. Usage: node single-server.js <app>
import { announce, serveApp } from './serve-app.js';

const app = process.argv[2];
if (app === undefined) throw new Error('usage: single-server.js <app>');
announce(await serveApp(app));
