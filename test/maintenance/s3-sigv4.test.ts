// SigV4 against the worked examples AWS publishes for S3 ("Signature Calculations for the
// Authorization Header", example credentials AKIAIOSFODNN7EXAMPLE).
import { describe, expect, it } from 'vitest';
import { EMPTY_SHA256, encodeKeyPath, signature, uriEncode } from '../../ledger/s3-sigv4.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DATE = '20130524T000000Z';

describe('SigV4 for S3', () => {
  it('signs the GET Object example', () => {
    const sig = signature(
      {
        method: 'GET',
        path: '/test.txt',
        query: [],
        headers: {
          host: 'examplebucket.s3.amazonaws.com',
          range: 'bytes=0-9',
          'x-amz-content-sha256': EMPTY_SHA256,
          'x-amz-date': DATE,
        },
        payloadHash: EMPTY_SHA256,
      },
      DATE,
      'us-east-1',
      SECRET,
    );
    expect(sig).toBe('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });

  it('signs the ListObjects example, query parameters sorted and encoded', () => {
    const sig = signature(
      {
        method: 'GET',
        path: '/',
        query: [
          ['prefix', 'J'],
          ['max-keys', '2'],
        ],
        headers: {
          host: 'examplebucket.s3.amazonaws.com',
          'x-amz-content-sha256': EMPTY_SHA256,
          'x-amz-date': DATE,
        },
        payloadHash: EMPTY_SHA256,
      },
      DATE,
      'us-east-1',
      SECRET,
    );
    expect(sig).toBe('34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });

  it('encodes keys as S3 expects: unreserved characters kept, slashes kept in paths only', () => {
    expect(encodeKeyPath('audit/2026/11/27/2026-11-27T13.ndjson.gz')).toBe(
      'audit/2026/11/27/2026-11-27T13.ndjson.gz',
    );
    expect(encodeKeyPath('a b/ü+$.json')).toBe('a%20b/%C3%BC%2B%24.json');
    expect(uriEncode('a/b~c')).toBe('a%2Fb~c');
  });
});
