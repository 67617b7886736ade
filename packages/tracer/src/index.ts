export const packageName = '@fasmcov/tracer';
