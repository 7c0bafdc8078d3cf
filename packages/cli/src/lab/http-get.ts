/**
 * One GET on a keep-alive agent, the body as text. The lab uses node:http rather than fetch so
 * that the main thread, worker threads and child processes all pay the same, small, client cost.
 */
import { type Agent, get } from 'node:http';

export function httpGet(url: string, agent: Agent, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent, signal }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        if (response.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${url}: HTTP ${response.statusCode}`));
      });
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}
