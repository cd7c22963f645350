// What a name people see (agent, workspace, person) may contain: 1–100 characters of well-formed Unicode text,
// without control characters (NUL, line breaks…) or the bidirectional overrides that make a name display as
// something else ("Trojan Source"). Shared by every route that takes a name.
import { z } from 'zod';

// Cc (controls) plus U+202A–U+202E and U+2066–U+2069 (bidi embeddings, overrides and isolates).
const FORBIDDEN_IN_NAMES = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const displayNameSchema = z
  .string()
  .trim()
  .min(1, 'is required')
  .max(100, 'is at most 100 characters')
  .refine((value) => !LONE_SURROGATE.test(value), 'contains invalid text (a lone surrogate)')
  .refine((value) => !FORBIDDEN_IN_NAMES.test(value), 'contains control or text-direction characters');
