import type { Connection } from 'mariadb';

/** One database as information_schema describes it: what schema-diff compares against. */
export type DbSnapshot = Map<string, DbTable>;

export interface DbTable {
  name: string;
  engine: string;
  charset: string | null;
  collation: string;
  columns: Map<string, DbColumn>;
  /** Keyed by index name; the primary key is `PRIMARY`. */
  indexes: Map<string, DbIndex>;
  foreignKeys: Map<string, DbForeignKey>;
}

export interface DbColumn {
  name: string;
  /** COLUMN_TYPE as the server prints it, e.g. `bigint(20) unsigned`. */
  columnType: string;
  nullable: boolean;
  /** COLUMN_DEFAULT; MariaDB prints string literals quoted and nullable columns as 'NULL'. */
  default: string | null;
  extra: string;
  collation: string | null;
}

export interface DbIndex {
  name: string;
  unique: boolean;
  fulltext: boolean;
  columns: Array<{ name: string; descending: boolean; prefixLength: number | null }>;
}

export interface DbForeignKey {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export async function readDbSnapshot(conn: Connection, database: string): Promise<DbSnapshot> {
  const snapshot: DbSnapshot = new Map();
  const tableNamed = (name: string): DbTable => {
    const table = snapshot.get(name);
    if (!table) throw new Error(`information_schema names unknown table ${database}.${name}`);
    return table;
  };

  const tables: Array<{ name: string; engine: string; collation: string; charset: string | null }> = await conn.query(
    `SELECT t.TABLE_NAME AS name, t.ENGINE AS engine, t.TABLE_COLLATION AS collation, c.CHARACTER_SET_NAME AS charset
       FROM information_schema.TABLES t
       LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c ON c.COLLATION_NAME = t.TABLE_COLLATION
      WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE'`,
    [database],
  );
  for (const t of tables) {
    snapshot.set(t.name, { ...t, columns: new Map(), indexes: new Map(), foreignKeys: new Map() });
  }

  const columns: Array<{ table: string; name: string; columnType: string; isNullable: string; def: string | null; extra: string; collation: string | null }> =
    await conn.query(
      `SELECT TABLE_NAME AS \`table\`, COLUMN_NAME AS name, COLUMN_TYPE AS columnType, IS_NULLABLE AS isNullable,
              COLUMN_DEFAULT AS def, EXTRA AS extra, COLLATION_NAME AS collation
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      [database],
    );
  for (const c of columns) {
    tableNamed(c.table).columns.set(c.name, {
      name: c.name,
      columnType: c.columnType,
      nullable: c.isNullable === 'YES',
      default: c.def,
      extra: c.extra,
      collation: c.collation,
    });
  }

  const indexColumns: Array<{ table: string; name: string; nonUnique: unknown; indexType: string; column: string; collation: string | null; subPart: unknown }> =
    await conn.query(
      `SELECT TABLE_NAME AS \`table\`, INDEX_NAME AS name, NON_UNIQUE AS nonUnique, INDEX_TYPE AS indexType,
              COLUMN_NAME AS \`column\`, COLLATION AS collation, SUB_PART AS subPart
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      [database],
    );
  for (const row of indexColumns) {
    const indexes = tableNamed(row.table).indexes;
    let index = indexes.get(row.name);
    if (!index) {
      index = { name: row.name, unique: Number(row.nonUnique) === 0, fulltext: row.indexType === 'FULLTEXT', columns: [] };
      indexes.set(row.name, index);
    }
    index.columns.push({
      name: row.column,
      descending: row.collation === 'D',
      prefixLength: row.subPart === null ? null : Number(row.subPart),
    });
  }

  const constraints: Array<{ table: string; name: string; referencedTable: string; onDelete: string; onUpdate: string }> = await conn.query(
    `SELECT TABLE_NAME AS \`table\`, CONSTRAINT_NAME AS name, REFERENCED_TABLE_NAME AS referencedTable,
            DELETE_RULE AS onDelete, UPDATE_RULE AS onUpdate
       FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?`,
    [database],
  );
  for (const fk of constraints) {
    tableNamed(fk.table).foreignKeys.set(fk.name, { ...fk, columns: [], referencedColumns: [] });
  }
  const fkColumns: Array<{ table: string; name: string; column: string; referencedColumn: string }> = await conn.query(
    `SELECT TABLE_NAME AS \`table\`, CONSTRAINT_NAME AS name, COLUMN_NAME AS \`column\`, REFERENCED_COLUMN_NAME AS referencedColumn
       FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL
      ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
    [database],
  );
  for (const row of fkColumns) {
    const fk = tableNamed(row.table).foreignKeys.get(row.name);
    if (!fk) throw new Error(`KEY_COLUMN_USAGE names foreign key ${row.name} that REFERENTIAL_CONSTRAINTS lacks`);
    fk.columns.push(row.column);
    fk.referencedColumns.push(row.referencedColumn);
  }
  return snapshot;
}
