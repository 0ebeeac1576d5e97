// The sink implementation for a configured entry, by type.
import type { ForwarderSinkEntry } from '../../ledger/sinks/sinks-file.ts';
import { ElasticsearchSink } from './elasticsearch.ts';
import type { ReadSecret, Sink } from './sink.ts';
import { SplunkHecSink } from './splunk-hec.ts';
import { WebhookSink } from './webhook.ts';

export function createSink(entry: ForwarderSinkEntry, readSecret: ReadSecret): Sink {
  switch (entry.spec.type) {
    case 'splunkHec':
      return new SplunkHecSink(entry, readSecret);
    case 'elasticsearch':
      return new ElasticsearchSink(entry, readSecret);
    case 'webhook':
      return new WebhookSink(entry, readSecret);
  }
}
