import { type PartitionSpec, type Recipe, RecipeError, isExtendedType } from './recipe';
import { runTool } from './tools';

/**
 * The partitions a KolibriOS-style scan numbers 1, 2, ...: MBR primaries in table order (the
 * extended container skipped), then the logical ones; GPT entries in table order; or the whole disk.
 */
export function kernelOrder(recipe: Recipe): PartitionSpec[] {
  if (recipe.table !== 'mbr') return recipe.partitions;
  const withFs = recipe.partitions.filter((p) => !isExtendedType(p.type));
  return [...withFs.filter((p) => !p.logical), ...withFs.filter((p) => p.logical)];
}

function mbrScript(recipe: Recipe): string {
  const lines = ['label: dos', `label-id: ${recipe.diskId ?? '0x46534d43'}`, 'unit: sectors', ''];
  let sawExtended = false;
  for (const p of recipe.partitions) {
    if (p.logical && !sawExtended)
      throw new RecipeError(`${recipe.name}: a logical partition before the extended one`);
    if (isExtendedType(p.type)) sawExtended = true;
    lines.push(`start=${p.start}, size=${p.sectors}, type=${p.type.replace(/^0(?=.)/, '')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the partition table (sfdisk / sgdisk, with fixed identifiers) into `image`. */
export function writePartitionTable(image: string, recipe: Recipe): void {
  if (recipe.table === 'mbr') {
    runTool('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', image], { input: mbrScript(recipe) });
  } else if (recipe.table === 'gpt') {
    const args = ['-U', recipe.diskId ?? '46534d43-0000-4000-8000-000000000000'];
    recipe.partitions.forEach((p, i) => {
      const n = i + 1;
      const guid = p.guid ?? `46534d43-0000-4000-8000-${String(n).padStart(12, '0')}`;
      args.push(
        '-n',
        `${n}:${p.start}:${p.start + p.sectors - 1}`,
        '-t',
        `${n}:${p.type}`,
        '-u',
        `${n}:${guid}`,
      );
      if (p.name) args.push('-c', `${n}:${p.name}`);
    });
    runTool('sgdisk', [...args, image]);
  }
}
