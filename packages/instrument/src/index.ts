export const packageName = '@fasmcov/instrument';
