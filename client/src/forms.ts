// Form fields with a label, hint and an error slot right under the control; API errors land next to their field.
import { h, uniqueId } from './dom';
import { ApiError } from './api';

export interface Field<T extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement = HTMLInputElement> {
  element: HTMLDivElement;
  control: T;
  setError(message: string | null): void;
}

export function field<T extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(label: string, control: T, options: { hint?: string; required?: boolean } = {}): Field<T> {
  const id = control.id || uniqueId('field');
  control.id = id;
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const describedBy = [options.hint ? hintId : null, errorId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  if (options.required) control.required = true;
  const element = h(
    'div',
    { class: 'field' },
    h('label', { class: 'field-label', for: id }, label, options.required ? h('span', { class: 'required-mark', 'aria-hidden': 'true' }, ' *') : null),
    control,
    options.hint ? h('p', { class: 'field-hint', id: hintId }, options.hint) : null,
    error,
  );
  return {
    element,
    control,
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = !message;
      if (message) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    },
  };
}

export function input(attributes: Record<string, unknown> = {}): HTMLInputElement {
  return h('input', { type: 'text', class: 'input', ...attributes });
}

export function select(options: Array<{ value: string; label: string }>, attributes: Record<string, unknown> = {}): HTMLSelectElement {
  return h('select', { class: 'input', ...attributes }, ...options.map((option) => h('option', { value: option.value }, option.label)));
}

/** A message area next to a button or form, announced to screen readers. */
export function formMessage(): { element: HTMLParagraphElement; show(message: string | null, kind?: 'error' | 'success' | 'info'): void } {
  const element = h('p', { class: 'form-message', role: 'status', hidden: true });
  return {
    element,
    show(message, kind = 'error') {
      element.textContent = message ?? '';
      element.hidden = !message;
      element.className = `form-message form-message-${kind}`;
      element.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    },
  };
}

/** Which of our field names an API error code concerns. */
const CODE_FIELDS: Record<string, string> = {
  API_KEY_FORMAT: 'apiKey',
  API_KEY_REQUIRED: 'apiKey',
  BASE_URL_NOT_ALLOWED: 'baseUrl',
  BASE_URL_REQUIRED: 'baseUrl',
  UNSAFE_BASE_URL: 'baseUrl',
  UNKNOWN_MODEL: 'model',
  UNKNOWN_PROVIDER: 'provider',
  UNKNOWN_PLAN: 'plan',
  TEMPLATE_VARIABLE_MISSING: 'variables',
  TEMPLATE_VARIABLE_UNKNOWN: 'variables',
  EMAIL_TAKEN: 'email',
  EMAIL_IN_USE: 'email',
  INVALID_CREDENTIALS: 'password',
  CURRENT_PASSWORD_INCORRECT: 'currentPassword',
  RESET_LINK_INVALID: 'newPassword',
};

/**
 * Routes an error to the field it concerns (by code, or by the validation issue's field path);
 * returns false when no field matched so the caller shows it next to the action instead.
 */
export function showFieldError(error: unknown, fields: Record<string, Field<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement> | undefined>): boolean {
  if (!(error instanceof ApiError)) return false;
  let target = CODE_FIELDS[error.code];
  let message = error.message;
  if (error.code === 'VALIDATION_FAILED' && error.details?.issues?.length) {
    const issue = error.details.issues[0]!;
    const segments = issue.field.split('.');
    target = [...segments].reverse().find((segment) => fields[segment]) ?? segments[segments.length - 1];
    const fieldLabel = fields[target!]?.element.querySelector('label')?.firstChild?.textContent?.trim() ?? target;
    message = `${fieldLabel} ${issue.message}.`;
  }
  if (error.status === 409 && fields.email) target = 'email';
  const field = target ? fields[target] : undefined;
  if (!field) return false;
  field.setError(message);
  field.control.focus();
  return true;
}

export function clearFieldErrors(fields: Record<string, Field<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement> | undefined>): void {
  for (const field of Object.values(fields)) field?.setError(null);
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return 'Something went wrong. Please try again.';
}

/** Disables a button while an action runs, with a busy label. */
export async function withBusy<T>(button: HTMLButtonElement, busyLabel: string, action: () => Promise<T>): Promise<T> {
  const original = button.innerHTML;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = busyLabel;
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.innerHTML = original;
  }
}
