/** A rendered manifest that cannot be played as it stands (it contradicts itself, or lacks what it reads). */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}
