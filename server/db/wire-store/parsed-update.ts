// The parsed form of an operator update (one entry per operator and path, the compiled array filters), the
// options it is applied with, and what an operator's application sees of the document.
import type { Document } from 'bson';
import type { CompiledFilter } from './query-engine';
import type { WalkResult } from './update-paths';

export interface ApplyOptions {
  /** The command's query (needed for the positional `$` operator). */
  filter?: Document;
  arrayFilters?: Document[];
  /** True when the document is being created by an upsert (`$setOnInsert` applies, `$` field names are allowed). */
  inserting?: boolean;
}

export interface ParsedOp {
  op: string;
  path: string;
  parts: string[];
  arg: unknown;
  /** `$rename`'s destination. */
  to?: string[];
  /** Prepared operator state (pull matcher, push modifiers, …). */
  prepared?: unknown;
}

export interface ParsedUpdate {
  ops: ParsedOp[];
  arrayFilters: Map<string, CompiledFilter>;
}

/** A parsed operator with one concrete path (positional elements resolved). */
export interface ConcreteOp {
  parsed: ParsedOp;
  parts: string[];
}

/** An operator's concrete path in the document being updated, and how to set the value there. */
export interface OperatorTarget {
  doc: Document;
  parts: string[];
  path: string;
  w: WalkResult;
  /** The current value at the path (undefined when it is not found). */
  old: unknown;
  options: ApplyOptions;
  /** Sets the value at the path (creating it when missing); returns true. */
  setValue(value: unknown): boolean;
}
