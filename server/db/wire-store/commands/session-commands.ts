// Session and transaction commands: session bookkeeping is acknowledged and ignored, sessions and transactions refused.
import { CommandError, ErrorCodes, notSupported } from '../command-error';
import type { CommandTable } from './command-support';

export const sessionCommands: CommandTable = {
  endSessions: () => ({ ok: 1 }),
  killAllSessions: () => ({ ok: 1 }),
  killAllSessionsByPattern: () => ({ ok: 1 }),
  killSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  startSession: () => {
    throw notSupported('Sessions');
  },
  abortTransaction: () => {
    throw new CommandError(ErrorCodes.IllegalOperation, 'Transactions are not supported by the built-in wire store (no replica set)');
  },
  commitTransaction: () => {
    throw new CommandError(ErrorCodes.IllegalOperation, 'Transactions are not supported by the built-in wire store (no replica set)');
  },
};
