export { HostCallError, BudgetExhaustedError } from './errors';
export { HostCallTable } from './host-calls';
export type { CallingConvention, HostCallContext, HostFunction, CallGuestOptions } from './host-calls';
export { GuestMachine } from './guest-machine';
export type { GuestMachineOptions } from './guest-machine';
