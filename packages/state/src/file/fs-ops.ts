import * as fs from "node:fs";

/**
 * The few file system calls the store makes, as promises over the callback API
 * (cheaper per call than `fs/promises` FileHandles, which matters at ~0.3 ms a save).
 * An interface so tests can inject EIO/ENOSPC at any step of the write protocol.
 */
export interface FsOps {
  open(path: string, flags: number, mode?: number): Promise<number>;
  write(fd: number, data: Uint8Array, offset: number, length: number): Promise<number>;
  read(fd: number, buffer: Uint8Array, offset: number, length: number): Promise<number>;
  fstat(fd: number): Promise<fs.Stats>;
  fsync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

function settle<T>(resolve: (value: T) => void, reject: (error: unknown) => void) {
  return (error: NodeJS.ErrnoException | null, value: T): void => {
    if (error) reject(error);
    else resolve(value);
  };
}

export const nodeFs: FsOps = {
  open: (path, flags, mode) => new Promise((resolve, reject) => fs.open(path, flags, mode, settle(resolve, reject))),
  write: (fd, data, offset, length) =>
    new Promise((resolve, reject) => fs.write(fd, data, offset, length, null, settle(resolve, reject))),
  read: (fd, buffer, offset, length) =>
    new Promise((resolve, reject) => fs.read(fd, buffer, offset, length, null, settle(resolve, reject))),
  fstat: (fd) => new Promise((resolve, reject) => fs.fstat(fd, settle(resolve, reject))),
  fsync: (fd) => new Promise((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve()))),
  close: (fd) => new Promise((resolve, reject) => fs.close(fd, (error) => (error ? reject(error) : resolve()))),
  rename: (from, to) =>
    new Promise((resolve, reject) => fs.rename(from, to, (error) => (error ? reject(error) : resolve()))),
  unlink: (path) => new Promise((resolve, reject) => fs.unlink(path, (error) => (error ? reject(error) : resolve()))),
};

const C = fs.constants;
// O_NOFOLLOW/O_DIRECTORY/O_NONBLOCK do not exist on Windows; there the checks rest on fstat alone.
export const O_NOFOLLOW: number = C.O_NOFOLLOW ?? 0;
export const O_NONBLOCK: number = C.O_NONBLOCK ?? 0;
export const O_DIRECTORY: number = C.O_DIRECTORY ?? 0;
export const TEMP_FLAGS: number = C.O_CREAT | C.O_EXCL | C.O_WRONLY | O_NOFOLLOW;
export const READ_FLAGS: number = C.O_RDONLY | O_NOFOLLOW | O_NONBLOCK;
export const DIR_FLAGS: number = C.O_RDONLY | O_DIRECTORY;
