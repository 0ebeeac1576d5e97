// Structured logs: one pino JSON line per event that matters, with the role as a field and secrets
// redacted by key wherever they appear.
import { pino } from 'pino';

export type Logger = pino.Logger;

const REDACT = [
  '*.password',
  '*.token',
  '*.authorization',
  '*.hmacKey',
  '*.secret',
  '*.apiKey',
  'config.hmacKey',
  'config.metricsBearer',
  'config.databaseUrl',
];

export function createLogger(role: string, level = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: 'ledgerhub',
      level,
      base: { role },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that writes nothing (tests, embedded roles that report elsewhere). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
