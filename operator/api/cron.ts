// What a valid CronJob schedule is: five cron fields (with ranges, steps, lists and names) or a macro.
// One regular expression, used by the zod schema at run time and by the CRD's CEL rule on the API server.

const MONTHS = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC';
const DAYS = 'SUN|MON|TUE|WED|THU|FRI|SAT';

/** A cron field: `*`, a value or a range, with an optional step, as a comma list. */
function field(value: string, wildcard = '[*]'): string {
  const v = `(${value})`;
  const atom = `(${wildcard}|${v}(-${v})?)(/[0-9]{1,2})?`;
  return `${atom}(,${atom})*`;
}

const FIELDS = [
  field('[0-5]?[0-9]'),
  field('[01]?[0-9]|2[0-3]'),
  field('0?[1-9]|[12][0-9]|3[01]', '[*?]'),
  field(`0?[1-9]|1[0-2]|(?i:${MONTHS})`),
  field(`[0-7]|(?i:${DAYS})`, '[*?]'),
];

/** No backslashes, so it reads the same inside a CEL string literal and a JavaScript RegExp. */
export const CRON_SCHEDULE_PATTERN = `^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|${FIELDS.join(' +')})$`;

const CRON_SCHEDULE = new RegExp(CRON_SCHEDULE_PATTERN);

export function isCronSchedule(value: string): boolean {
  return CRON_SCHEDULE.test(value);
}

/** The CEL rule a schedule field carries in the CRD. */
export const CRON_RULE = {
  rule: `self.matches('${CRON_SCHEDULE_PATTERN}')`,
  message: 'must be a cron schedule: five fields (minute hour day-of-month month day-of-week) or a macro',
};
