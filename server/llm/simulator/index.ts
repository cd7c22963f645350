// The provider simulator's public surface: start it, point adapters at `baseUrls`, script faults.
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
