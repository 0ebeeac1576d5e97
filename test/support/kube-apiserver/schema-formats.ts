// String formats a CRD schema may declare, checked as the apiserver's strfmt registry does; formats it
// does not know are accepted. Standard formats come from ajv-formats; Kubernetes-specific ones are here.
import { fullFormats } from 'ajv-formats/dist/formats.js';

type FormatCheck = (value: string) => boolean;

function fromAjv(name: keyof typeof fullFormats): FormatCheck {
  const format = fullFormats[name];
  if (format instanceof RegExp) return (v) => format.test(v);
  if (typeof format === 'function') return (v) => (format as (s: string) => boolean)(v);
  if (typeof format === 'object' && format !== null && 'validate' in format) {
    const validate = format.validate as RegExp | ((s: string) => boolean);
    return validate instanceof RegExp ? (v) => validate.test(v) : (v) => validate(v);
  }
  return () => true;
}

const ipv4 = fromAjv('ipv4');
const ipv6 = fromAjv('ipv6');

const CHECKS: Record<string, FormatCheck> = {
  'date-time': fromAjv('date-time'),
  datetime: fromAjv('date-time'),
  date: fromAjv('date'),
  uri: fromAjv('uri'),
  email: fromAjv('email'),
  hostname: fromAjv('hostname'),
  ipv4,
  ipv6,
  uuid: fromAjv('uuid'),
  byte: fromAjv('byte'),
  uuid3: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  uuid4: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(v),
  uuid5: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(v),
  // Go time.ParseDuration syntax plus strfmt's d and w units
  duration: (v) => /^\s*-?(\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d|w)\s*)+$/.test(v) || v === '0',
  cidr: (v) => {
    const [ip, bits, ...rest] = v.split('/');
    if (rest.length || ip === undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
    return (ipv4(ip) && Number(bits) <= 32) || (ipv6(ip) && Number(bits) <= 128);
  },
  mac: (v) => /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(v),
  hexcolor: (v) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(v),
  bsonobjectid: (v) => /^[0-9a-fA-F]{24}$/.test(v),
};

/** Whether a string satisfies a declared format (unknown formats always do). */
export function satisfiesFormat(format: string, value: string): boolean {
  const check = CHECKS[format];
  return check ? check(value) : true;
}
