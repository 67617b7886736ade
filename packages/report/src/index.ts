export const packageName = '@fasmcov/report';
