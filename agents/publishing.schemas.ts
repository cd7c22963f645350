// zod schemas of the publishing settings (share link, embed, retention) and of a visitor's chat request.
import { z } from 'zod';
import { MAX_RETENTION_DAYS } from './conversation.service';

/** An origin as a browser sends it: scheme, host, optional port; nothing else. */
const originSchema = z
  .string()
  .trim()
  .max(300)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value.replace(/\/$/, '') && url.pathname === '/' && !url.search && !url.hash;
    } catch {
      return false;
    }
  }, 'must be an origin like https://shop.example.com (scheme, host, optional port; no path)')
  .transform((value) => new URL(value).origin);

export const publishingSettingsSchema = z
  .object({
    displayName: z.string().trim().min(1, 'is required').max(80).optional(),
    greeting: z.string().trim().max(500).optional(),
    suggestedQuestions: z.array(z.string().trim().min(1).max(200)).max(6).optional(),
    accentColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour like #2563eb').optional(),
    allowedOrigins: z.array(originSchema).max(20).optional(),
    retentionDays: z.number().int().min(0).max(MAX_RETENTION_DAYS).optional(),
  })
  .strict();
export type PublishingSettingsInput = z.infer<typeof publishingSettingsSchema>;

/** Visitor ids are made by the widget: "v_" and 16 to 64 URL-safe characters, nothing that names a person. */
export const VISITOR_ID_PATTERN = /^v_[A-Za-z0-9_-]{16,64}$/;
export const MAX_VISITOR_MESSAGE_LENGTH = 4_000;

export const visitorChatSchema = z
  .object({
    visitorId: z.string().max(100),
    message: z.string().max(1_000_000),
    conversationId: z.string().max(100).optional(),
    /** When the agent keeps no conversations, the page sends what was said so far (trimmed server-side). */
    history: z
      .array(z.object({ role: z.enum(['user', 'assistant']), content: z.string().max(MAX_VISITOR_MESSAGE_LENGTH * 4) }).strict())
      .max(100)
      .optional(),
  })
  .strict();
export type VisitorChatInput = z.infer<typeof visitorChatSchema>;
