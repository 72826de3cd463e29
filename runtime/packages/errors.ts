/** A package that may not serve: names the package, the file and the reason. */
export class PackageError extends Error {
  override name = 'PackageError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(file ? `${file}: ${message}` : message);
  }
}
