// An export encoding thread: takes a unit's COPY text, posts back its encoded objects (the bodies'
// memory transferred, not copied) or the error that stopped it.
import { parentPort } from 'node:worker_threads';
import { encodeUnit } from './export-encode.ts';
import { type EncodeJob, type EncodeReply, ownedArrayBuffer } from './export-encoders.ts';

parentPort?.on('message', (job: EncodeJob) => {
  let reply: EncodeReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const unit = encodeUnit(Buffer.from(job.text), job.range, job.settings);
    reply = {
      id: job.id,
      events: unit.events,
      zones: unit.zones,
      objects: unit.objects.map((o) => {
        const body = ownedArrayBuffer(o.body);
        transfer.push(body);
        return { format: o.format, sha256: o.sha256, bytes: o.bytes, body };
      }),
    };
  } catch (err) {
    reply = { id: job.id, error: (err as Error).message };
  }
  parentPort?.postMessage(reply, transfer);
});
