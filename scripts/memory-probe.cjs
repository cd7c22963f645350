// Preloaded (`node --require scripts/memory-probe.cjs …`) into the server by `npm run bench:memory`
// (scripts/bench-idle-memory.ts); never part of a production start. On SIGUSR2 it appends one JSON line to
// MEMORY_PROBE_FILE: process.memoryUsage(), the V8 heap spaces and how many modules are loaded.
// With MEMORY_PROBE_MODULES=1 it also attributes what each package costs while it loads: for every module loaded
// from node_modules/<package>/ (or the project's own dist/<dir>/), the growth of the V8 heap and of RSS between
// entering and leaving its first load, minus what the modules it loaded in turn cost (their own entries). With
// --expose-gc it collects before each measurement so the growth is what the module keeps, not garbage; without,
// the numbers are rough. Run such a process for the table only: the collections make its start-up slow.
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const v8 = require('node:v8');

const file = process.env.MEMORY_PROBE_FILE;
const gc = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;
const costs = new Map(); // owner → { heap, rss, modules }
const stack = [];
const projectRoot = process.cwd() + '/';

function ownerOf(filename) {
  if (typeof filename !== 'string' || !filename.startsWith('/')) return 'node:builtin';
  const index = filename.lastIndexOf('/node_modules/');
  if (index >= 0) {
    const rest = filename.slice(index + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (filename.startsWith(projectRoot)) {
    const parts = filename.slice(projectRoot.length).split('/');
    // dist/server/http/routers/x.js → server/http (two levels is enough to find a culprit)
    const from = parts[0] === 'dist' ? parts.slice(1) : parts;
    return `(own) ${from.slice(0, Math.min(2, from.length - 1)).join('/') || from[0]}`;
  }
  return '(other)';
}

function sample() {
  if (gc) gc();
  return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage.rss() };
}

if (process.env.MEMORY_PROBE_MODULES === '1') {
  const load = Module._load;
  Module._load = function probedLoad(request, parent, isMain) {
    let filename;
    try {
      filename = Module._resolveFilename(request, parent, isMain);
    } catch {
      return load.apply(this, arguments);
    }
    if (Module._cache[filename] || !filename.startsWith('/')) return load.apply(this, arguments);
    const owner = ownerOf(filename);
    const parentOwner = stack.length > 0 ? stack[stack.length - 1].owner : undefined;
    if (owner === parentOwner) {
      const entry = costs.get(owner);
      if (entry) entry.modules += 1;
      return load.apply(this, arguments);
    }
    const frame = { owner, start: sample(), childHeap: 0, childRss: 0 };
    stack.push(frame);
    try {
      return load.apply(this, arguments);
    } finally {
      stack.pop();
      const end = sample();
      const heap = end.heap - frame.start.heap;
      const rss = end.rss - frame.start.rss;
      const entry = costs.get(owner) ?? { heap: 0, rss: 0, modules: 0 };
      entry.heap += heap - frame.childHeap;
      entry.rss += rss - frame.childRss;
      entry.modules += 1;
      costs.set(owner, entry);
      const parentFrame = stack[stack.length - 1];
      if (parentFrame) {
        parentFrame.childHeap += heap;
        parentFrame.childRss += rss;
      }
    }
  };
}

process.on('SIGUSR2', () => {
  if (!file) return;
  const usage = process.memoryUsage();
  // [used, committed] per V8 heap space
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((space) => [space.space_name, [space.space_used_size, space.physical_space_size]]));
  const heap = v8.getHeapStatistics();
  const line = {
    at: Date.now(),
    memoryUsage: usage,
    heapSpaces: spaces,
    mallocedMemory: heap.malloced_memory,
    codeAndMetadata: v8.getHeapCodeStatistics(),
    modulesLoaded: Object.keys(Module._cache).length,
    packages: costs.size > 0 ? [...costs.entries()].map(([owner, cost]) => ({ owner, ...cost })) : undefined,
  };
  fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
});
