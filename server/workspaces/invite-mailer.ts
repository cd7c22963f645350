// Sends an invite link by email when SMTP is configured (nodemailer); without it the link is only shown to the inviter.
import type { Transporter } from 'nodemailer';

export interface InviteMail {
  to: string;
  workspaceName: string;
  inviterName: string;
  role: string;
  link: string;
  expiresAt: Date;
}

export interface InviteMailer {
  readonly configured: boolean;
  /** true when the SMTP server accepted the mail; false when it failed (the inviter still has the link). */
  send(mail: InviteMail): Promise<boolean>;
  close(): void;
}

export function createInviteMailer(options: { smtpUrl: string | undefined; from: string; onError?: (error: unknown) => void }): InviteMailer {
  if (!options.smtpUrl) return { configured: false, send: async () => false, close: () => undefined };
  // Loaded only when SMTP is configured (it is ~1 MB of code an idle server without mail does not need).
  const nodemailer = require('nodemailer') as typeof import('nodemailer');
  const transport: Transporter = nodemailer.createTransport(options.smtpUrl, { from: options.from });
  return {
    configured: true,
    async send(mail) {
      const text = [
        `${mail.inviterName} invited you to the workspace "${mail.workspaceName}" on Agent Host as ${mail.role}.`,
        '',
        `Accept the invite: ${mail.link}`,
        '',
        `The link works once and until ${mail.expiresAt.toUTCString()}.`,
      ].join('\n');
      try {
        await transport.sendMail({ to: mail.to, subject: `Join ${mail.workspaceName} on Agent Host`, text });
        return true;
      } catch (error) {
        options.onError?.(error);
        return false;
      }
    },
    close: () => transport.close(),
  };
}
