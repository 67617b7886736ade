/**
 * A `/`-separated glob as a RegExp: `**` any number of folders, `*` and `?` within one name,
 * `{a,b}` alternatives. A pattern without `/` matches the name in any folder.
 */
export function globToRegExp(glob: string): RegExp {
  const g = glob.includes('/') ? glob.replace(/^\.\//, '') : `**/${glob}`;
  let re = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '*' && g[i + 1] === '*') {
      const slash = g[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',' && re.lastIndexOf('(?:') > re.lastIndexOf(')')) re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether `rel` matches one of the globs (no globs: everything matches). */
export function matchesAny(rel: string, globs: string[]): boolean {
  return globs.length === 0 || globs.some((g) => globToRegExp(g).test(rel));
}
