/**
 * The part of ONNX's protobuf schema lockstep writes, with the field numbers of upstream onnx/onnx.proto
 * (IR version 8). Declared as protobufjs JSON rather than a .proto file so nothing is parsed at run time.
 */
import protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
/** AttributeProto.AttributeType values used here. */
export const AttributeType = { INT: 2 } as const;

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { id: 1, type: 'int64' },
            producerName: { id: 2, type: 'string' },
            producerVersion: { id: 3, type: 'string' },
            domain: { id: 4, type: 'string' },
            modelVersion: { id: 5, type: 'int64' },
            docString: { id: 6, type: 'string' },
            graph: { id: 7, type: 'GraphProto' },
            opsetImport: { id: 8, rule: 'repeated', type: 'OperatorSetIdProto' },
            metadataProps: { id: 14, rule: 'repeated', type: 'StringStringEntryProto' },
          },
        },
        OperatorSetIdProto: { fields: { domain: { id: 1, type: 'string' }, version: { id: 2, type: 'int64' } } },
        StringStringEntryProto: { fields: { key: { id: 1, type: 'string' }, value: { id: 2, type: 'string' } } },
        GraphProto: {
          fields: {
            node: { id: 1, rule: 'repeated', type: 'NodeProto' },
            name: { id: 2, type: 'string' },
            initializer: { id: 5, rule: 'repeated', type: 'TensorProto' },
            docString: { id: 10, type: 'string' },
            input: { id: 11, rule: 'repeated', type: 'ValueInfoProto' },
            output: { id: 12, rule: 'repeated', type: 'ValueInfoProto' },
          },
        },
        NodeProto: {
          fields: {
            input: { id: 1, rule: 'repeated', type: 'string' },
            output: { id: 2, rule: 'repeated', type: 'string' },
            name: { id: 3, type: 'string' },
            opType: { id: 4, type: 'string' },
            attribute: { id: 5, rule: 'repeated', type: 'AttributeProto' },
            domain: { id: 7, type: 'string' },
          },
        },
        AttributeProto: {
          fields: {
            name: { id: 1, type: 'string' },
            i: { id: 3, type: 'int64' },
            type: { id: 20, type: 'int32' },
          },
        },
        ValueInfoProto: { fields: { name: { id: 1, type: 'string' }, type: { id: 2, type: 'TypeProto' } } },
        TypeProto: {
          fields: { tensorType: { id: 1, type: 'TypeProtoTensor' } },
        },
        TypeProtoTensor: {
          fields: { elemType: { id: 1, type: 'int32' }, shape: { id: 2, type: 'TensorShapeProto' } },
        },
        TensorShapeProto: { fields: { dim: { id: 1, rule: 'repeated', type: 'Dimension' } } },
        Dimension: { fields: { dimValue: { id: 1, type: 'int64' }, dimParam: { id: 2, type: 'string' } } },
        TensorProto: {
          fields: {
            dims: { id: 1, rule: 'repeated', type: 'int64' },
            dataType: { id: 2, type: 'int32' },
            name: { id: 8, type: 'string' },
            rawData: { id: 9, type: 'bytes' },
          },
        },
      },
    },
  },
});

/** The ModelProto message type (encode with `ModelProto.encode(ModelProto.fromObject(obj)).finish()`). */
export const ModelProto = root.lookupType('onnx.ModelProto');
