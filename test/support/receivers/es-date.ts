// Elasticsearch date parsing for the mapping checks: the default `date` format
// strict_date_optional_time||epoch_millis, and the strings dynamic date detection maps as dates.

// yyyy[-MM[-dd]][Thh[:mm[:ss[.fraction]]][offset]] with 4-digit years and 2-digit fields (strict).
const STRICT_DATE_OPTIONAL_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/;
// The second default dynamic_date_formats entry: "yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z".
const SLASHED_DATE = /^(\d{4})\/(\d{2})\/(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?(?: ?(Z|[+-]\d{2}:?\d{2}))?$/;
const EPOCH_MILLIS = /^-?\d+(\.\d+)?$/;

/** Whether `value` parses with a `date` field's default format. */
export function isEsDate(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'string') return false;
  return EPOCH_MILLIS.test(value) || isStrictDateOptionalTime(value) || isSlashedDate(value);
}

/** Whether dynamic mapping (date_detection on, the default) maps a new string field as `date`. */
export function looksLikeEsDate(value: string): boolean {
  return isStrictDateOptionalTime(value) || isSlashedDate(value);
}

function isStrictDateOptionalTime(value: string): boolean {
  const m = STRICT_DATE_OPTIONAL_TIME.exec(value);
  if (!m) return false;
  return validCalendar(m[1], m[2], m[3]) && validClock(m[4], m[5], m[6]);
}

function isSlashedDate(value: string): boolean {
  const m = SLASHED_DATE.exec(value);
  if (!m) return false;
  return validCalendar(m[1], m[2], m[3]) && validClock(m[4], m[5], m[6]);
}

function validCalendar(year?: string, month?: string, day?: string): boolean {
  const y = Number(year);
  const mo = month === undefined ? 1 : Number(month);
  const d = day === undefined ? 1 : Number(day);
  if (mo < 1 || mo > 12 || d < 1) return false;
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= daysInMonth;
}

function validClock(hour?: string, minute?: string, second?: string): boolean {
  return Number(hour ?? 0) <= 23 && Number(minute ?? 0) <= 59 && Number(second ?? 0) <= 59;
}
