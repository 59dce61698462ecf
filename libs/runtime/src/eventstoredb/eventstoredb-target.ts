/**
 * What a message may say of an EventStoreDB connection string: its hosts (`host:port[,host:port]`),
 * never the user and password it may hold (`esdb://user:password@host:2113`), nor its parameters.
 */
export interface EventStoreDbTarget {
  hosts: string;
  /** Removes the credentials wherever a text (an error of the client) quotes them. */
  redact(text: string): string;
}

const CONNECTION_STRING = /^\s*esdb(?:\+discover)?:\/\/(?:([^@/?]*)@)?([^/?]*)/i;

export function eventStoreDbTarget(connectionString: string): EventStoreDbTarget {
  const match = CONNECTION_STRING.exec(connectionString);
  const credentials = match?.[1];
  // The whole string, the user:password part, and the password as written and decoded.
  const secrets: string[] = [];
  if (credentials) {
    secrets.push(connectionString, credentials);
    const password = credentials.slice(credentials.indexOf(':') + 1);
    if (credentials.includes(':') && password) secrets.push(password, decodeOrSelf(password));
  }
  const redact = (text: string): string =>
    secrets
      .filter((secret) => secret.length > 0)
      .reduce((redacted, secret) => redacted.split(secret).join('***'), text);
  return { hosts: match?.[2] || 'an unreadable address', redact };
}

function decodeOrSelf(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
