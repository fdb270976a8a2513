// The Docker Engine API over its unix socket, or over any stream to it (a remote host's `docker system
// dial-stdio` on an SSH channel), with Node's own http (no client library: dockerode brings 56 packages for
// builds and sessions we never use). The API version is pinned in every path, so daemons from Debian 12's
// 20.10 (API 1.41) to current answer the same shapes.
import http from 'node:http';

export const API_VERSION = '1.41';

export class EngineError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export interface IpamConfig {
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
  AuxiliaryAddresses?: Record<string, string> | null;
}

export interface EngineNetwork {
  Id: string;
  Name: string;
  Driver: string;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: IpamConfig[] | null; Options?: Record<string, string> | null };
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  Containers?: Record<string, { Name?: string; IPv4Address?: string; IPv6Address?: string }> | null;
}

export interface EngineContainer {
  Id: string;
  Names?: string[];
  NetworkSettings?: {
    Networks?: Record<string, { IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null; IPAddress?: string; GlobalIPv6Address?: string; Aliases?: string[] | null }>;
  };
}

export interface NetworkCreate {
  Name: string;
  Driver: string;
  CheckDuplicate: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Config: IpamConfig[] };
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** unix socket path from DOCKER_HOST (unix://…) or the default; tcp:// is refused (TLS setup is not ours). */
export function dockerSocket(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new EngineError(`DOCKER_HOST=${host}: only a local unix socket (unix:///path) is supported; flatnet converges the host it runs on`);
}

/** The daemon reached through an http.Agent of the caller's (one kept-alive stream, e.g. over SSH). */
export interface EngineConnector {
  /** where, for messages: `nas (admin@192.168.88.9)` */
  describe: string;
  agent: http.Agent;
  /** a one-line reason for a failed request when the transport knows better than the socket error */
  explain?: (err: NodeJS.ErrnoException) => string | undefined;
}

export class Engine {
  requests = 0;
  /** unix socket path, or the connector's description */
  readonly socketPath: string;
  private readonly connector?: EngineConnector;
  constructor(
    target: string | EngineConnector,
    private readonly timeoutMs = 30_000,
  ) {
    if (typeof target === 'string') this.socketPath = target;
    else {
      this.connector = target;
      this.socketPath = target.describe;
    }
  }

  /** over a connector, one request at a time: the stream is one HTTP connection, kept alive and reused */
  private queue: Promise<unknown> = Promise.resolve();

  private request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
    if (!this.connector) return this.send<T>(method, path, body);
    const next = this.queue.then(() => this.send<T>(method, path, body));
    this.queue = next.catch(() => {});
    return next;
  }

  private send<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
    this.requests++;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          ...(this.connector ? { agent: this.connector.agent, host: 'docker' } : { socketPath: this.socketPath }),
          path: `/v${API_VERSION}${path}`,
          method,
          headers: { Host: 'docker', ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let data: unknown = undefined;
            try {
              data = text === '' ? undefined : JSON.parse(text);
            } catch {
              data = text;
            }
            const status = res.statusCode ?? 0;
            if (status >= 400) {
              const message = typeof data === 'object' && data !== null && 'message' in data ? String((data as { message: unknown }).message) : text.trim();
              reject(new EngineError(`Docker: ${method} ${path.split('?')[0]} answered ${status}: ${message}`, status));
            } else resolve({ status, data: data as T });
          });
        },
      );
      req.on('timeout', () => req.destroy(new EngineError(`Docker did not answer ${method} ${path.split('?')[0]} within ${this.timeoutMs / 1000} s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const explained = err instanceof EngineError ? undefined : this.connector?.explain?.(err);
        if (err instanceof EngineError) reject(err);
        else if (explained !== undefined) reject(new EngineError(explained));
        else if (this.connector) reject(new EngineError(`Docker request ${method} ${path.split('?')[0]} on ${this.connector.describe} failed: ${err.message}`));
        else if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new EngineError(`cannot reach the Docker daemon at ${this.socketPath} (${err.code}): is dockerd running? (DOCKER_HOST selects another socket)`));
        else if (err.code === 'EACCES') reject(new EngineError(`no permission to use ${this.socketPath}: run as root (or in the docker group)`));
        else reject(new EngineError(`Docker request ${method} ${path.split('?')[0]} failed: ${err.message}`));
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  async version(): Promise<{ Version: string; ApiVersion: string; MinAPIVersion?: string }> {
    return (await this.request<{ Version: string; ApiVersion: string; MinAPIVersion?: string }>('GET', '/version')).data;
  }

  async networks(): Promise<EngineNetwork[]> {
    return (await this.request<EngineNetwork[]>('GET', '/networks')).data ?? [];
  }

  async create(spec: NetworkCreate): Promise<string> {
    return (await this.request<{ Id: string }>('POST', '/networks/create', spec)).data.Id;
  }

  async remove(id: string): Promise<void> {
    await this.request('DELETE', `/networks/${encodeURIComponent(id)}`);
  }

  async disconnect(network: string, container: string): Promise<void> {
    await this.request('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { Container: container, Force: true });
  }

  async connect(network: string, container: string, ipv4?: string, ipv6?: string, aliases?: string[]): Promise<void> {
    const ipam = { ...(ipv4 ? { IPv4Address: ipv4 } : {}), ...(ipv6 ? { IPv6Address: ipv6 } : {}) };
    await this.request('POST', `/networks/${encodeURIComponent(network)}/connect`, {
      Container: container,
      EndpointConfig: { ...(Object.keys(ipam).length ? { IPAMConfig: ipam } : {}), ...(aliases?.length ? { Aliases: aliases } : {}) },
    });
  }

  /** Every container on a network, stopped ones included. */
  async containersOn(network: string): Promise<EngineContainer[]> {
    const filters = encodeURIComponent(JSON.stringify({ network: [network] }));
    return (await this.request<EngineContainer[]>('GET', `/containers/json?all=1&filters=${filters}`)).data ?? [];
  }
}
