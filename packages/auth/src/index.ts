export { hashPassword, verifyPassword, verifyAgainstDummy } from './passwords.ts';
export {
  createTokenService,
  extractBearer,
  type TokenService,
  type TokenClaims,
  type IssuedToken,
  type TokenServiceOptions,
} from './tokens.ts';
export {
  createRedisRevocations,
  createMemoryRevocations,
  startRevocationUpkeep,
  revocationChannel,
  type TokenRevocations,
  type RedisRevocationsOptions,
  type RevocationUpkeepOptions,
} from './revocations.ts';
export { createMemoryRevocationLedger } from './revocation-ledger-memory.ts';
export { createLoginCodes, type LoginCodes, type CodeCheck, type LoginCodeOptions, type PasswordClaim } from './login-codes.ts';
export { createFileLinks, type FileLinks, type FileLinkOptions } from './file-links.ts';
