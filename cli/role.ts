// Runs a long-lived role until SIGTERM or SIGINT, then stops it cleanly and exits 0.
export interface RoleHandle {
  stop(): Promise<void>;
  done: Promise<void>;
}

export async function runUntilSignalled(handle: RoleHandle): Promise<number> {
  let signalled = false;
  const onSignal = () => {
    if (signalled) return;
    signalled = true;
    void handle.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    await handle.done;
    await handle.stop();
    return 0;
  } catch {
    await handle.stop();
    return 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
