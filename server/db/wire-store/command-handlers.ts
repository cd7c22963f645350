// Command dispatch: maps each command name to its handler in commands/ and turns errors into replies. Each command
// runs to completion synchronously (one thread), so every command is atomic with respect to the others.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './command-error';
import { validateDbName, type Store } from './collection-store';
import type { CursorManager } from './cursor-manager';
import { aggregateCommands } from './commands/aggregate-command';
import { collectionCommands } from './commands/collection-commands';
import type { CommandContext, CommandTable, ConnectionInfo } from './commands/command-support';
import { indexCommands } from './commands/index-commands';
import { planCommands, withHints } from './commands/query-plan';
import { readCommands } from './commands/read-commands';
import { hello, serverCommands } from './commands/server-commands';
import { sessionCommands } from './commands/session-commands';
import { writeCommands } from './commands/write-commands';

export type { ConnectionInfo } from './commands/command-support';

export interface Logger {
  info(...args: any[]): void;
  warn(...args: any[]): void;
  error(...args: any[]): void;
}

/** Every command, wrapped so that `hint`s are checked and honoured (see query-plan.ts). */
const COMMANDS: CommandTable = Object.fromEntries(
  Object.entries({
    ...serverCommands,
    ...collectionCommands,
    ...indexCommands,
    ...writeCommands,
    ...readCommands,
    ...aggregateCommands,
    ...planCommands,
    ...sessionCommands,
  }).map(([name, handler]) => [name, withHints(name, handler)]),
);

export class CommandHandlers {
  private readonly ctx: CommandContext;

  constructor(
    store: Store,
    cursors: CursorManager,
    private readonly logger?: Logger,
    afterWrite?: () => void,
  ) {
    this.ctx = { store, cursors, afterWrite };
  }

  /** Runs one command and returns its reply (never throws). */
  handle(db: string, cmd: Document, conn: ConnectionInfo): Document {
    const name = Object.keys(cmd)[0];
    try {
      if (!name) throw new CommandError(ErrorCodes.FailedToParse, 'empty command');
      const handler = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
      if (!handler) {
        throw new CommandError(ErrorCodes.CommandNotFound, `no such command: '${name}'`);
      }
      if (cmd.txnNumber !== undefined || cmd.startTransaction !== undefined || cmd.autocommit !== undefined) {
        throw new CommandError(ErrorCodes.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
      }
      return handler(this.ctx, validateDbName(db), cmd, conn);
    } catch (err) {
      if (err instanceof CommandError) return err.toReply();
      this.logger?.error({ err, command: name }, 'wire-store: command failed unexpectedly');
      return new CommandError(ErrorCodes.InternalError, (err as Error)?.message ?? String(err)).toReply();
    }
  }

  hello(conn: ConnectionInfo): Document {
    return hello(conn);
  }
}
