export const ROLES = ['service', 'agent', 'auditor', 'analyst', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKeyRecord {
  /** Public id, part of the key and recorded as the actor id of every command sent with it. */
  id: string;
  name: string;
  roles: Role[];
  /** Lowercase hex SHA-256 of the whole secret key; the key itself is never stored. */
  secretHash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface ApiKeyStore {
  insert(record: ApiKeyRecord): Promise<void>;
  findBySecretHash(secretHash: string): Promise<ApiKeyRecord | null>;
  list(): Promise<ApiKeyRecord[]>;
  /** Returns false when no such key exists or it was already revoked. */
  revoke(id: string, revokedAt: string): Promise<boolean>;
  count(): Promise<number>;
}

export const API_KEY_STORE = Symbol('ApiKeyStore');
