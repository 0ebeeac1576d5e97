// A sink's TLS settings turned into undici connect options, reading CA, client certificate and key from
// the referenced Secrets.
import type { AuditSinkSpec } from '../../ledger/sinks/spec.ts';
import type { EndpointTls } from './http-endpoint.ts';
import type { ReadSecret } from './sink.ts';

export function endpointTls(tls: AuditSinkSpec['tls'], readSecret: ReadSecret): EndpointTls {
  const out: EndpointTls = { rejectUnauthorized: !tls.insecureSkipVerify };
  if (tls.ca) out.ca = readSecret(tls.ca);
  if (tls.clientCert) out.cert = readSecret(tls.clientCert);
  if (tls.clientKey) out.key = readSecret(tls.clientKey);
  if (tls.serverName) out.servername = tls.serverName;
  return out;
}
