// Public surface of @facesets/shared: contracts and domain code more than one service uses.
export * from './config';
export * from './logger';
export * from './params';
export * from './models/model-pack';
