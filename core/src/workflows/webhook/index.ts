// Webhook triggers: signature verification and replay protection.
export { acceptDelivery, purgeExpiredDeliveries } from './deliveries.ts'
export {
  matchSignature,
  type ParsedSignature,
  parseSignature,
  SIGNATURE_HEADER,
  type SignatureCheck,
  type SignatureFailure,
  signWebhook,
  verifyWebhook,
  WEBHOOK_POLICY,
} from './signature.ts'
