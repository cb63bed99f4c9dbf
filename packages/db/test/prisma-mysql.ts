import internals from '@prisma/internals';

/**
 * What Prisma's MySQL connector would create for a schema element: column types, default
 * constraint names, referential actions, column defaults. schema-diff compares these with the
 * database. Anything this file cannot map is reported as a difference rather than skipped, so a
 * schema feature nobody taught it about fails the test instead of passing unchecked.
 */

export type Datamodel = Awaited<ReturnType<typeof internals.getDMMF>>['datamodel'];
export type Model = Datamodel['models'][number];
export type Field = Model['fields'][number];
type Enum = Datamodel['enums'][number];

/** The datamodel exactly as Prisma understands the schema text (its own parser, via wasm). */
export async function loadDatamodel(schema: string): Promise<Datamodel> {
  return (await internals.getDMMF({ datamodel: schema })).datamodel;
}

// Prisma's column type for a scalar without @db.*, as MariaDB prints it.
const SCALAR_COLUMN_TYPE: Record<string, string> = {
  String: 'varchar(191)',
  Boolean: 'tinyint(1)',
  Int: 'int(11)',
  BigInt: 'bigint(20)',
  Float: 'double',
  Decimal: 'decimal(65,30)',
  DateTime: 'datetime(3)',
  Json: 'json',
  Bytes: 'longblob',
};

// MariaDB's display widths for integer types: [signed, unsigned].
const INT_WIDTH: Record<string, [number, number]> = {
  tinyint: [4, 3],
  smallint: [6, 5],
  mediumint: [9, 8],
  int: [11, 10],
  bigint: [20, 20],
};

const TEMPORAL = new Set(['datetime', 'timestamp', 'time']);

export function expectedColumnType(field: Field, enums: readonly Enum[]): string {
  if (field.kind === 'enum') {
    const values = enums.find((e) => e.name === field.type)?.values ?? [];
    return `enum(${values.map((v) => sqlString(v.dbName ?? v.name)).join(',')})`;
  }
  if (!field.nativeType) return SCALAR_COLUMN_TYPE[field.type] ?? `(no MySQL type known for Prisma type ${field.type})`;

  const [native, args] = field.nativeType;
  const unsigned = native.startsWith('Unsigned');
  const base = (unsigned ? native.slice('Unsigned'.length) : native).toLowerCase();
  const width = INT_WIDTH[base];
  if (width) return `${base}(${args[0] ?? width[unsigned ? 1 : 0]})${unsigned ? ' unsigned' : ''}`;
  if (base === 'year') return 'year(4)';
  // DATETIME(0) prints as plain `datetime`.
  if (TEMPORAL.has(base) && (args.length === 0 || args[0] === '0')) return base;
  return args.length ? `${base}(${args.join(',')})` : base;
}

/**
 * Whether a column's type is the expected one. Integer display widths are ignored (MySQL 8 no
 * longer prints them; they never change what is stored) except `tinyint(1)`, which is how both
 * Prisma and the drivers recognise a Boolean. MariaDB stores JSON as longtext.
 */
export function sameColumnType(expected: string, actual: string): boolean {
  const normalize = (type: string) =>
    type
      .toLowerCase()
      .replace(/^(tinyint|smallint|mediumint|int|bigint|year)\((\d+)\)/, (all, base: string) => (all === 'tinyint(1)' ? all : base))
      .replace(/^json$/, 'longtext');
  return normalize(expected) === normalize(actual);
}

const MAX_IDENTIFIER_LENGTH = 64;

/**
 * Prisma's default index/constraint name: `<table>_<col1>_<col2><suffix>`, the part before the
 * suffix cut to fit MySQL's 64-character limit (psl ConstraintNames; ASCII names assumed).
 */
export function defaultConstraintName(table: string, columns: readonly string[], suffix: '_key' | '_idx' | '_fkey'): string {
  let name = `${table}_${columns.join('_')}`;
  if (name.length >= MAX_IDENTIFIER_LENGTH - suffix.length) name = name.slice(0, MAX_IDENTIFIER_LENGTH - suffix.length);
  return name + suffix;
}

const REFERENTIAL_ACTION: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

/** ON DELETE / ON UPDATE for a relation field that holds the foreign key. */
export function expectedReferentialActions(relation: Field): { onDelete: string; onUpdate: string } {
  const action = (name: string | undefined, fallback: string) =>
    name === undefined ? fallback : (REFERENTIAL_ACTION[name] ?? `(unknown referential action ${name})`);
  return {
    // Prisma's defaults: a required relation may not lose its parent, an optional one lets go.
    onDelete: action(relation.relationOnDelete, relation.isRequired ? 'RESTRICT' : 'SET NULL'),
    onUpdate: action(relation.relationOnUpdate, 'CASCADE'),
  };
}

/** What the column's DEFAULT and EXTRA must be; `problem` when this file cannot tell. */
export type ExpectedDefault =
  | { kind: 'none' }
  | { kind: 'autoincrement' }
  | { kind: 'literal'; sql: string }
  | { kind: 'number'; value: number }
  | { kind: 'expression'; sql: string }
  | { kind: 'any' }
  | { kind: 'problem'; message: string };

// Defaults Prisma Client fills in itself; the database column has none.
const CLIENT_SIDE_DEFAULTS = new Set(['uuid', 'cuid', 'nanoid', 'ulid']);

export function expectedDefault(field: Field, columnType: string, enums: readonly Enum[]): ExpectedDefault {
  const value = field.default;
  if (value === undefined) return { kind: 'none' };
  if (Array.isArray(value)) return { kind: 'problem', message: 'a list default is not supported on MySQL' };
  if (typeof value === 'object' && value !== null && 'name' in value) {
    if (value.name === 'autoincrement') return { kind: 'autoincrement' };
    if (value.name === 'now') {
      const precision = /\((\d+)\)/.exec(columnType)?.[1];
      return { kind: 'expression', sql: `current_timestamp(${precision && precision !== '0' ? precision : ''})` };
    }
    if (CLIENT_SIDE_DEFAULTS.has(value.name)) return { kind: 'none' };
    if (value.name === 'dbgenerated') {
      const expression = value.args[0];
      // dbgenerated() without an argument says "the database has some default Prisma does not model".
      return expression === undefined ? { kind: 'any' } : { kind: 'expression', sql: String(expression) };
    }
    return { kind: 'problem', message: `default function ${value.name}() is not known to schema-diff` };
  }
  if (typeof value === 'boolean') return { kind: 'number', value: value ? 1 : 0 };
  if (typeof value === 'number') return { kind: 'number', value };
  if (typeof value === 'string' && field.kind === 'enum') {
    const member = enums.find((e) => e.name === field.type)?.values.find((v) => v.name === value);
    return { kind: 'literal', sql: sqlString(member?.dbName ?? value) };
  }
  if (typeof value === 'string' && field.type === 'String') return { kind: 'literal', sql: sqlString(value) };
  // DMMF carries BigInt defaults as strings so they survive JSON.
  if (typeof value === 'string' && field.type === 'BigInt' && /^-?\d+$/.test(value)) {
    return { kind: 'number', value: Number(value) };
  }
  return { kind: 'problem', message: `a literal ${field.type} default is not known to schema-diff` };
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
