// Secrets encrypted at rest (AES-256-GCM), write-only through the API.
export { open as openSealed, type Sealed, seal } from './cipher.ts'
export { SECRET_ERRORS, SecretError, type SecretErrorCode } from './errors.ts'
export { createKeyring, decodeKey, type Keyring, type KeyringConfig, keyId, loadKeyring } from './keyring.ts'
export { SECRETS_MIGRATION } from './migration.ts'
export { SECRET_NAME, SECRET_POLICY } from './policy.ts'
export { SecretValue } from './secret-value.ts'
export { createSecretStore, type SecretInfo, type SecretStore } from './store.ts'
