// The SSH session code lives in src/ssh.ts (shared with the Docker host target); this keeps the OpenWrt
// target's imports as they were.
export * from '../../src/ssh.js';
