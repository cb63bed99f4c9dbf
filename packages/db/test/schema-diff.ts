import type { DbColumn, DbSnapshot, DbTable } from './db-snapshot.ts';
import {
  defaultConstraintName,
  expectedColumnType,
  expectedDefault,
  expectedReferentialActions,
  sameColumnType,
  type Datamodel,
  type Field,
  type Model,
} from './prisma-mysql.ts';

/**
 * Every way the database differs from what schema.prisma describes, one sentence each, naming the
 * table, column, index or key and both sides. Empty when the migrations produce the schema.
 *
 * It checks both directions: a model, field, index or relation the database lacks (someone
 * changed schema.prisma without writing a migration) and a table, column, index or foreign key the
 * schema lacks (a migration the schema never caught up with).
 */
export function diffSchema(datamodel: Datamodel, db: DbSnapshot): string[] {
  const out: string[] = [];
  const models = new Map(datamodel.models.map((model) => [model.name, model]));
  for (const model of datamodel.models) {
    const table = db.get(tableName(model));
    if (!table) {
      out.push(`table ${tableName(model)} (model ${model.name}) is missing from the database`);
      continue;
    }
    diffTable(model, table, out);
    diffColumns(model, table, datamodel, out);
    const fkNames = diffForeignKeys(model, table, models, out);
    diffIndexes(model, table, datamodel, fkNames, out);
  }
  const expectedTables = new Set(datamodel.models.map(tableName));
  for (const name of db.keys()) {
    // Prisma's own bookkeeping table is not part of the schema.
    if (name !== '_prisma_migrations' && !expectedTables.has(name)) {
      out.push(`table ${name} exists in the database but no model maps to it`);
    }
  }
  return out;
}

function tableName(model: Model): string {
  return model.dbName ?? model.name;
}

function columnName(field: Field): string {
  return field.dbName ?? field.name;
}

function fieldNamed(model: Model, name: string): Field {
  const field = model.fields.find((f) => f.name === name);
  if (!field) throw new Error(`DMMF names field ${model.name}.${name} that the model does not have`);
  return field;
}

// Prisma's MySQL connector writes these on every CREATE TABLE (and on CREATE DATABASE).
const CHARSET = 'utf8mb4';
const COLLATION = 'utf8mb4_unicode_ci';

function diffTable(model: Model, table: DbTable, out: string[]): void {
  const where = `table ${table.name} (model ${model.name})`;
  if (table.engine !== 'InnoDB') out.push(`${where}: engine is ${table.engine}, expected InnoDB`);
  if (table.charset !== CHARSET) out.push(`${where}: character set is ${table.charset}, expected ${CHARSET}`);
  if (table.collation !== COLLATION) out.push(`${where}: collation is ${table.collation}, expected ${COLLATION}`);
}

function diffColumns(model: Model, table: DbTable, datamodel: Datamodel, out: string[]): void {
  const expected = new Set<string>();
  for (const field of model.fields) {
    if (field.kind === 'object') continue;
    const where = `column ${table.name}.${columnName(field)} (${model.name}.${field.name})`;
    if (field.kind !== 'scalar' && field.kind !== 'enum') {
      out.push(`${where}: field kind ${field.kind} is not checked by schema-diff; extend it`);
      continue;
    }
    expected.add(columnName(field));
    const column = table.columns.get(columnName(field));
    if (!column) {
      out.push(`${where} is missing from the database`);
      continue;
    }
    const type = expectedColumnType(field, datamodel.enums);
    if (!sameColumnType(type, column.columnType)) out.push(`${where}: type is ${column.columnType}, schema expects ${type}`);
    if (column.nullable === field.isRequired) {
      out.push(`${where}: ${column.nullable ? 'NULL' : 'NOT NULL'} in the database, schema says ${field.isRequired ? 'required' : 'optional'}`);
    }
    diffDefault(field, column, type, datamodel, where, out);
    // JSON columns carry their own binary collation on MariaDB; every other text column gets Prisma's.
    if (column.collation !== null && field.type !== 'Json' && column.collation !== COLLATION) {
      out.push(`${where}: collation is ${column.collation}, expected ${COLLATION}`);
    }
  }
  for (const name of table.columns.keys()) {
    if (!expected.has(name)) out.push(`column ${table.name}.${name} exists in the database but not in model ${model.name}`);
  }
}

function diffDefault(field: Field, column: DbColumn, type: string, datamodel: Datamodel, where: string, out: string[]): void {
  const want = expectedDefault(field, type, datamodel.enums);
  if (want.kind === 'problem') {
    out.push(`${where}: ${want.message}; extend schema-diff`);
    return;
  }
  // MariaDB reports "no default" on a nullable column as the text NULL.
  const actual = column.default === null || column.default === 'NULL' ? null : column.default;
  const describe = (value: string | null) => (value === null ? 'none' : value);
  const normalizeExpression = (sql: string) => sql.toLowerCase().replace(/\s+/g, '').replace(/^\((.*)\)$/, '$1');

  let matches: boolean;
  let wanted: string;
  switch (want.kind) {
    case 'none':
    case 'autoincrement':
      matches = actual === null;
      wanted = 'none';
      break;
    case 'literal':
      matches = actual === want.sql;
      wanted = want.sql;
      break;
    case 'number':
      matches = actual !== null && Number(actual) === want.value;
      wanted = String(want.value);
      break;
    case 'expression':
      matches = actual !== null && normalizeExpression(actual) === normalizeExpression(want.sql);
      wanted = want.sql;
      break;
    case 'any':
      matches = true;
      wanted = 'any';
      break;
  }
  if (!matches) out.push(`${where}: default is ${describe(actual)}, schema expects ${wanted}`);

  // Prisma never emits ON UPDATE (@updatedAt is set by the client); MySQL 8 adds DEFAULT_GENERATED for expressions.
  const extra = column.extra.toLowerCase().replace('default_generated', '').trim();
  const wantedExtra = want.kind === 'autoincrement' ? 'auto_increment' : '';
  if (extra !== wantedExtra) out.push(`${where}: EXTRA is "${extra}", schema expects "${wantedExtra}"`);
}

/** Checks the foreign keys the model's relations need; returns their names. */
function diffForeignKeys(model: Model, table: DbTable, models: Map<string, Model>, out: string[]): Set<string> {
  const expected = new Set<string>();
  const reportedManyToMany = new Set<string>();
  for (const relation of model.fields) {
    if (relation.kind !== 'object') continue;
    const target = models.get(relation.type);
    if (!target) {
      out.push(`relation ${model.name}.${relation.name} points at ${relation.type}, which is not a model`);
      continue;
    }
    const fromFields = relation.relationFromFields ?? [];
    if (fromFields.length === 0) {
      const back = target.fields.find((f) => f.relationName === relation.relationName && f !== relation);
      if (relation.isList && back?.isList && !reportedManyToMany.has(relation.relationName ?? '')) {
        reportedManyToMany.add(relation.relationName ?? '');
        out.push(`implicit many-to-many relation ${relation.relationName} (${model.name}.${relation.name}) is not checked by schema-diff; extend it`);
      }
      continue; // the other side holds the foreign key
    }
    const columns = fromFields.map((name) => columnName(fieldNamed(model, name)));
    const referencedColumns = (relation.relationToFields ?? []).map((name) => columnName(fieldNamed(target, name)));
    // DMMF does not carry @relation(map: ...), so a relation must keep Prisma's default FK name.
    const name = defaultConstraintName(table.name, columns, '_fkey');
    expected.add(name);
    const where = `foreign key ${name} on ${table.name} (${model.name}.${relation.name})`;
    const fk = table.foreignKeys.get(name);
    if (!fk) {
      out.push(`${where} is missing from the database`);
      continue;
    }
    const want = {
      columns: columns.join(', '),
      referencedTable: tableName(target),
      referencedColumns: referencedColumns.join(', '),
      ...expectedReferentialActions(relation),
    };
    const have = {
      columns: fk.columns.join(', '),
      referencedTable: fk.referencedTable,
      referencedColumns: fk.referencedColumns.join(', '),
      onDelete: fk.onDelete,
      onUpdate: fk.onUpdate,
    };
    for (const key of Object.keys(want) as Array<keyof typeof want>) {
      if (want[key] !== have[key]) out.push(`${where}: ${key} is ${have[key]}, schema expects ${want[key]}`);
    }
  }
  for (const name of table.foreignKeys.keys()) {
    if (!expected.has(name)) out.push(`foreign key ${name} on ${table.name} exists in the database but not in model ${model.name}`);
  }
  return expected;
}

function diffIndexes(model: Model, table: DbTable, datamodel: Datamodel, fkNames: Set<string>, out: string[]): void {
  const expected = new Set<string>();
  for (const index of datamodel.indexes) {
    if (index.model !== model.name) continue;
    const fields = index.fields.map((f) => ({ ...f, column: columnName(fieldNamed(model, f.name)) }));
    const columns = fields.map((f) => f.column);
    const name =
      index.type === 'id'
        ? 'PRIMARY'
        : (index.dbName ?? defaultConstraintName(table.name, columns, index.type === 'unique' ? '_key' : '_idx'));
    expected.add(name);
    const kind = { id: 'primary key', unique: 'unique index', normal: 'index', fulltext: 'fulltext index' }[index.type];
    const where = `${kind} ${name} on ${table.name}`;
    const actual = table.indexes.get(name);
    const wantColumns = fields.map((f) => describeIndexColumn(f.column, f.sortOrder === 'desc', f.length ?? null)).join(', ');
    if (!actual) {
      out.push(`${where} (${wantColumns}) is missing from the database`);
      continue;
    }
    const haveColumns = actual.columns.map((c) => describeIndexColumn(c.name, c.descending, c.prefixLength)).join(', ');
    if (haveColumns !== wantColumns) out.push(`${where}: columns are (${haveColumns}), schema expects (${wantColumns})`);
    const unique = index.type === 'id' || index.type === 'unique';
    if (actual.unique !== unique) out.push(`${where}: ${actual.unique ? 'unique' : 'not unique'} in the database, schema says ${unique ? 'unique' : 'not unique'}`);
    if (actual.fulltext !== (index.type === 'fulltext')) out.push(`${where}: ${actual.fulltext ? 'FULLTEXT' : 'not FULLTEXT'} in the database`);
  }
  for (const [name, index] of table.indexes) {
    // InnoDB adds an index named after a foreign key when no index starts with its columns.
    if (expected.has(name) || fkNames.has(name)) continue;
    const columns = index.columns.map((c) => describeIndexColumn(c.name, c.descending, c.prefixLength)).join(', ');
    out.push(`index ${name} on ${table.name} (${columns}) exists in the database but not in model ${model.name}`);
  }
}

function describeIndexColumn(column: string, descending: boolean, prefixLength: number | null): string {
  return column + (prefixLength === null ? '' : `(${prefixLength})`) + (descending ? ' DESC' : '');
}
