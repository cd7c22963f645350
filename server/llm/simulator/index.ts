// The provider simulator's public surface: start it, point adapters at `baseUrls`, script faults.
// Sandbox key convention: any non-empty key works, except keys containing `invalid` (→ the provider's
// 401) and `noquota` (→ the provider's quota error); no key → 401.
export {
  startProviderSimulator,
  type ProviderSimulatorOptions,
  type SimulatorHandle,
  type SimulatorRecordedRequest,
} from './provider-simulator.server';
export {
  SimulatorFaults,
  type SimulatedCutFault,
  type SimulatedErrorFault,
  type SimulatedOmitUsageFault,
  type SimulatedTimeoutFault,
  type SimulatorFault,
  type SimulatorFaultRate,
  type SimulatorFaultScope,
} from './simulator-faults';
