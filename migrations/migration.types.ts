import type { Connection } from 'mongoose';
import type { Models } from '../server/platform-models';

export interface Migration {
  /** Ordered, unique id: the file name without extension. */
  id: string;
  description: string;
  up(context: { connection: Connection; models: Models }): Promise<void>;
}
