/** Linux errno values returned (negated) by the emulated system calls. */
export const ERRNO = {
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EMFILE: 24,
  ESPIPE: 29,
  EPIPE: 32,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENODEV: 19,
} as const;

/** errno for a Node.js fs error code. */
export function errnoOf(e: unknown): number {
  const code = (e as { code?: string }).code;
  const known: Record<string, number> = {
    ENOENT: ERRNO.ENOENT,
    EACCES: ERRNO.EACCES,
    EPERM: ERRNO.EACCES,
    ENOTDIR: ERRNO.ENOTDIR,
    EISDIR: ERRNO.EISDIR,
    ENAMETOOLONG: ERRNO.ENAMETOOLONG,
    EMFILE: ERRNO.EMFILE,
    EBADF: ERRNO.EBADF,
    EPIPE: ERRNO.EPIPE,
  };
  return (code && known[code]) || ERRNO.EIO;
}
