// The handshake (hello/isMaster) and the commands that describe the server: buildInfo, hostInfo, serverStatus, ...
import os from 'node:os';
import { Long, type Document } from 'bson';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE } from '../wire-protocol';
import type { CommandTable, ConnectionInfo } from './command-support';

const MAX_WRITE_BATCH_SIZE = 100_000;
const MAX_WIRE_VERSION = 21;
const STARTED_AT = Date.now();

export function hello(conn: ConnectionInfo): Document {
  // No logicalSessionTimeoutMinutes: the driver then sends no lsid and refuses transactions client-side.
  return {
    helloOk: true,
    ismaster: true,
    isWritablePrimary: true,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_SIZE,
    maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
    localTime: new Date(),
    connectionId: conn.id,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  };
}

function buildInfo(): Document {
  return {
    version: '7.0.0',
    gitVersion: 'agent-host-wire-store',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    storageEngines: ['wire-store'],
    javascriptEngine: 'none',
    modules: [],
    ok: 1,
  };
}

function getParameter(cmd: Document): Document {
  const out: Document = {};
  if (cmd.featureCompatibilityVersion !== undefined || cmd.getParameter === '*') {
    out.featureCompatibilityVersion = { version: '7.0' };
  }
  return { ...out, ok: 1 };
}

function hostInfo(): Document {
  return {
    system: {
      currentTime: new Date(),
      hostname: os.hostname(),
      cpuAddrSize: 64,
      memSizeMB: Math.round(os.totalmem() / 2 ** 20),
      numCores: os.cpus().length,
      cpuArch: os.arch(),
    },
    os: { type: os.type(), name: os.platform(), version: os.release() },
    extra: {},
    ok: 1,
  };
}

function serverStatus(): Document {
  return {
    host: os.hostname(),
    version: '7.0.0',
    process: 'agent-host-wire-store',
    pid: Long.fromNumber(process.pid),
    uptime: (Date.now() - STARTED_AT) / 1000,
    localTime: new Date(),
    ok: 1,
  };
}

export const serverCommands: CommandTable = {
  hello: (ctx, db, cmd, conn) => hello(conn),
  isMaster: (ctx, db, cmd, conn) => hello(conn),
  ismaster: (ctx, db, cmd, conn) => hello(conn),
  ping: () => ({ ok: 1 }),
  buildInfo: () => buildInfo(),
  buildinfo: () => buildInfo(),
  getParameter: (ctx, db, cmd) => getParameter(cmd),
  hostInfo: () => hostInfo(),
  serverStatus: () => serverStatus(),
  whatsmyuri: (ctx, db, cmd, conn) => ({ you: conn.remote, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  getLog: () => ({ log: [], totalLinesWritten: 0, ok: 1 }),
  getCmdLineOpts: () => ({ argv: ['wire-store'], parsed: {}, ok: 1 }),
  getFreeMonitoringStatus: () => ({ state: 'disabled', ok: 1 }),
};
