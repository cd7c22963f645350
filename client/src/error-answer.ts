// The error answer of Agent Host's APIs, `{ error: { code, message, details } }`, read from a failed response
// (by the app's API client and by the embeddable chat).

export interface ErrorAnswer {
  code?: string;
  message?: string;
  details?: { issues?: Array<{ field: string; message: string }>; [key: string]: unknown };
}

/** The `error` of a response's JSON body; undefined when the body is not JSON or has none. */
export async function readErrorAnswer(response: Response): Promise<ErrorAnswer | undefined> {
  try {
    const body = (await response.json()) as { error?: ErrorAnswer } | null;
    return body?.error;
  } catch {
    return undefined;
  }
}
