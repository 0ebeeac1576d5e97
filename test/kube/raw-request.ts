// Raw HTTP requests to the cluster a KubeConfig points at, authenticated the way @kubernetes/client-node
// authenticates (so the same helper works against the fake and a real apiserver over TLS).
import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch } from 'undici';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** the body parsed as JSON, or undefined when it is not JSON */
  // biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary Kubernetes JSON
  json: any;
}

export interface RawRequestOptions {
  body?: unknown;
  /** defaults to application/json when there is a body */
  contentType?: string;
  accept?: string;
}

export async function rawRequest(
  kc: KubeConfig,
  method: keyof typeof HttpMethod,
  path: string,
  options: RawRequestOptions = {},
): Promise<RawResponse> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in kubeconfig');
  const context = new RequestContext(`${cluster.server}${path}`, HttpMethod[method]);
  await kc.applySecurityAuthentication(context);
  const headers: Record<string, string> = { ...context.getHeaders() };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] = options.contentType ?? 'application/json';
  }
  if (options.accept) headers['Accept'] = options.accept;
  const response = await fetch(`${cluster.server}${path}`, {
    method,
    headers,
    body,
    dispatcher: context.getDispatcher() as never,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers as unknown as Headers, text, json };
}
