// Executes migration files for the CLI (on a worker thread of its process) and the extension (as
// a child process); see core/ops/perform.ts: one operation in, progress and logs out, then the result.
import { parentPort } from 'node:worker_threads';
import { RECORD_STOPPED_ENV, recordStoppedLater, serializeError, serve, type ChildMessage, type ChildRequest, type ParentMessage, type StoppedRecord } from './core/internal';

/** The way to the parent: parentPort on a worker thread, the IPC channel in a child process. */
interface Channel {
  /** `then` runs once the message is handed over (a child's pipe writes asynchronously). */
  send(message: ChildMessage, then?: () => void): void;
  onMessage(listener: (message: ParentMessage<ChildRequest>) => void): void;
  close(): void;
  /** The parent is gone (editor closed, CLI killed). */
  onGone(listener: () => void): void;
}

const port = parentPort;
const channel: Channel = port
  ? {
      send: (message, then) => {
        port.postMessage(message);
        then?.();
      },
      onMessage: (listener) => port.on('message', listener),
      close: () => port.close(),
      onGone: (listener) => port.once('close', listener),
    }
  : {
      send: (message, then) => process.send!(message, undefined, {}, then),
      onMessage: (listener) => process.on('message', listener),
      close: () => process.disconnect(),
      onGone: (listener) => process.on('disconnect', listener),
    };
const abort = new AbortController();

const onMessage = (message: ParentMessage<ChildRequest>) => {
  if (message.type === 'cancel') return abort.abort();
  // Disconnect only once the answer is written: a large report could otherwise be cut off.
  const answer = (reply: ChildMessage) => channel.send(reply, () => channel.close());
  serve(message.config, message.request, (m) => channel.send(m), abort.signal).then(
    (value) => answer({ type: 'result', value }),
    (err) => answer({ type: 'error', error: serializeError(err) }),
  );
};
const record = process.env[RECORD_STOPPED_ENV];
if (record) void recordStoppedLater(JSON.parse(record) as StoppedRecord);
else channel.onMessage(onMessage);
// The parent gone: stop at the next migration boundary.
channel.onGone(() => abort.abort());
