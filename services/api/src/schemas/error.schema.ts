// The one error shape every route answers with.
import { Type, type Static } from 'typebox';

export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer({ examples: [400] }),
    error: Type.String({ examples: ['Bad Request'] }),
    message: Type.String({ examples: ['body/bucket must be an absolute path'] }),
  },
  { $id: 'Error', description: 'Every error: HTTP status, its name, and a message naming the field or cause' },
);
export type ErrorBody = Static<typeof ErrorSchema>;

export const errorRef = Type.Unsafe<ErrorBody>(Type.Ref('Error'));
