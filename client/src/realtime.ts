// One Socket.IO connection per signed-in tab; joins the selected workspace room and fans events out to views.
import { io, type Socket } from 'socket.io-client';
import { getToken } from './api';
import type { Alert, UsageRow } from './types';
import type { UsageTotals } from '../../shared/usage-answers';

export interface UsageUpdate {
  workspaceId: string;
  month: string;
  agents: UsageRow[];
  totals: UsageTotals;
}

type Listener<T> = (payload: T) => void;
const usageListeners = new Set<Listener<UsageUpdate>>();
const alertListeners = new Set<Listener<Alert>>();
const statusListeners = new Set<Listener<boolean>>();
let sessionEndedHandler: () => void = () => undefined;

/** The server ended this tab's session (signed out elsewhere, password changed elsewhere, token expired). */
export function setSessionEndedHandler(handler: () => void): void {
  sessionEndedHandler = handler;
}

let socket: Socket | null = null;
let joinedWorkspace: string | null = null;
let connected = false;

export function connectRealtime(workspaceId: string): void {
  const token = getToken();
  if (!token) return;
  if (!socket) {
    socket = io(location.origin, { auth: { token }, transports: ['websocket', 'polling'] });
    socket.on('connect', () => {
      if (joinedWorkspace) join(joinedWorkspace);
    });
    socket.on('disconnect', () => setConnected(false));
    socket.on('connect_error', () => setConnected(false));
    socket.on('usage:update', (update: UsageUpdate) => {
      if (update.workspaceId === joinedWorkspace) for (const listener of usageListeners) listener(update);
    });
    socket.on('session:expired', () => sessionEndedHandler());
    socket.on('alert', (alert: Alert) => {
      for (const listener of alertListeners) listener(alert);
    });
  }
  if (joinedWorkspace !== workspaceId) {
    // Rooms are per workspace; a fresh socket is the simplest way to leave the previous one.
    if (joinedWorkspace !== null) {
      disconnectRealtime();
      connectRealtime(workspaceId);
      return;
    }
    joinedWorkspace = workspaceId;
    if (socket.connected) join(workspaceId);
  }
}

function join(workspaceId: string): void {
  // "Live" only once the server has put us in the room: updates before that would be missed.
  socket?.emit('workspace:join', { workspaceId }, (acknowledgement?: { ok?: boolean }) => setConnected(Boolean(acknowledgement?.ok)));
}

function setConnected(value: boolean): void {
  connected = value;
  for (const listener of statusListeners) listener(value);
}

export function disconnectRealtime(): void {
  socket?.disconnect();
  socket = null;
  joinedWorkspace = null;
  setConnected(false);
}

export function isRealtimeConnected(): boolean {
  return connected;
}

function subscribe<T>(set: Set<Listener<T>>, listener: Listener<T>): () => void {
  set.add(listener);
  return () => set.delete(listener);
}
export const onUsageUpdate = (listener: Listener<UsageUpdate>) => subscribe(usageListeners, listener);
export const onAlert = (listener: Listener<Alert>) => subscribe(alertListeners, listener);
export const onRealtimeStatus = (listener: Listener<boolean>) => subscribe(statusListeners, listener);
