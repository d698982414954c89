// nn: layers, losses and the functional forms.
export * as functional from './functional.js';
